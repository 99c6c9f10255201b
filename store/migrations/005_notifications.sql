-- Notification pipeline (alerts/notify/): the log of every attempt, receivers and
-- policies made through the API, and the dispatcher's group and escalation state.
--
-- Mutable things are ReplacingMergeTree tables written as new versions, never
-- updated in place; readers take argMax(column, version) grouped by the key and
-- filter deleted ones outside the subquery (the 18.16-safe pattern).

-- One row per attempt (and per notice not sent: suppressed, superseded).
-- `atMs` is the dispatcher's time of the attempt; `seq` orders rows written at
-- the same `atMs` (it grows with every row a process writes); `at` partitions.
CREATE TABLE IF NOT EXISTS {db}.notification_log
(
    at DateTime('UTC'),
    atMs UInt64,
    seq UInt64,
    id String,
    noticeId String,
    policy String,
    groupKey String,
    receiver String,
    channel String,
    kind String,
    instanceIds Array(String),
    rules Array(String),
    regions Array(String),
    status String,
    attempt UInt16,
    maxAttempts UInt16,
    error String,
    reason String,
    durationMs UInt32,
    nextAttemptAt UInt32
)
ENGINE = MergeTree()
PARTITION BY toYYYYMM(at)
ORDER BY (at, channel, receiver);

-- Receivers and policies created or edited through the API (those in the
-- configuration file are not copied here). `definition` is the JSON body.
CREATE TABLE IF NOT EXISTS {db}.notification_receivers
(
    id String,
    version UInt64,
    definition String,
    deleted UInt8,
    updatedAt DateTime('UTC'),
    updatedBy String
)
ENGINE = ReplacingMergeTree(version)
ORDER BY id;

CREATE TABLE IF NOT EXISTS {db}.notification_policies
(
    id String,
    version UInt64,
    definition String,
    deleted UInt8,
    updatedAt DateTime('UTC'),
    updatedBy String
)
ENGINE = ReplacingMergeTree(version)
ORDER BY id;

-- The dispatcher's memory (groups waiting or repeating, escalations in
-- progress, retries due), so a restart or a standby sends nothing twice.
CREATE TABLE IF NOT EXISTS {db}.notification_state
(
    key String,
    version UInt64,
    state String,
    deleted UInt8,
    updatedAt DateTime('UTC')
)
ENGINE = ReplacingMergeTree(version)
ORDER BY key;
