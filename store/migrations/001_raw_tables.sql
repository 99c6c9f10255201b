-- Raw records, one table per kind. Times are DateTime('UTC') (seconds).
-- Calls and surveys dedupe on id (ReplacingMergeTree, id in the sorting key);
-- tickets and faults are snapshots where the newest updatedAt wins.
-- Every table is partitioned by month so retention can drop whole partitions.

CREATE TABLE IF NOT EXISTS {db}.calls
(
    id String,
    region String,
    queue String,
    channel String,
    enteredAt DateTime('UTC'),
    answeredAt Nullable(DateTime('UTC')),
    endedAt DateTime('UTC'),
    outcome String,
    waitSeconds UInt32,
    talkSeconds Nullable(UInt32),
    holdSeconds Nullable(UInt32),
    wrapSeconds Nullable(UInt32),
    agent String,
    customer String,
    resolved Nullable(UInt8),
    ingestedAt DateTime('UTC')
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(enteredAt)
ORDER BY (region, enteredAt, id);

CREATE TABLE IF NOT EXISTS {db}.tickets
(
    id String,
    region String,
    channel String,
    category String,
    priority String,
    openedAt DateTime('UTC'),
    firstResponseAt Nullable(DateTime('UTC')),
    resolvedAt Nullable(DateTime('UTC')),
    closedAt Nullable(DateTime('UTC')),
    status String,
    reopenCount UInt32,
    customer String,
    updatedAt DateTime('UTC'),
    ingestedAt DateTime('UTC')
)
ENGINE = ReplacingMergeTree(updatedAt)
PARTITION BY toYYYYMM(openedAt)
ORDER BY id;

CREATE TABLE IF NOT EXISTS {db}.faults
(
    id String,
    region String,
    site String,
    domain String,
    severity String,
    detectedAt DateTime('UTC'),
    acknowledgedAt Nullable(DateTime('UTC')),
    restoredAt Nullable(DateTime('UTC')),
    customersAffected UInt64,
    cause String,
    updatedAt DateTime('UTC'),
    ingestedAt DateTime('UTC')
)
ENGINE = ReplacingMergeTree(updatedAt)
PARTITION BY toYYYYMM(detectedAt)
ORDER BY id;

CREATE TABLE IF NOT EXISTS {db}.surveys
(
    id String,
    region String,
    channel String,
    touchpoint String,
    refId String,
    answeredAt DateTime('UTC'),
    csat Nullable(UInt8),
    nps Nullable(UInt8),
    ces Nullable(UInt8),
    customer String,
    ingestedAt DateTime('UTC')
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(answeredAt)
ORDER BY (region, answeredAt, id);

CREATE TABLE IF NOT EXISTS {db}.queue_states
(
    region String,
    queue String,
    at DateTime('UTC'),
    waiting UInt32,
    longestWaitSeconds UInt32,
    agentsReady Nullable(UInt32),
    agentsBusy Nullable(UInt32),
    agentsPaused Nullable(UInt32),
    ingestedAt DateTime('UTC')
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(at)
ORDER BY (region, queue, at);

CREATE TABLE IF NOT EXISTS {db}.subscribers
(
    region String,
    asOf Date,
    subscribers UInt64,
    ingestedAt DateTime('UTC')
)
ENGINE = ReplacingMergeTree(ingestedAt)
ORDER BY (region, asOf);

-- Rejected records, kept with their raw text and the reasons (never silently dropped).
CREATE TABLE IF NOT EXISTS {db}.dead_letters
(
    receivedAt DateTime('UTC'),
    kind String,
    source String,
    batchId String,
    recordIndex UInt32,
    raw String,
    errors Array(String)
)
ENGINE = MergeTree()
PARTITION BY toYYYYMM(receivedAt)
ORDER BY (kind, receivedAt, batchId, recordIndex);
