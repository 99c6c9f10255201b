-- Alert engine state (alerts/): rules made through the API, instances, their
-- history, acknowledgements and silences.
--
-- Mutable things (rules, instances, silences) are ReplacingMergeTree tables
-- written as new versions, never updated in place; readers take
-- argMax(column, version) grouped by the key and filter outside the subquery
-- (the 18.16-safe pattern). The full object is a JSON document (`definition`,
-- `doc`); the columns beside it are the ones queries filter on.

-- Rules created, edited or deleted through the API (or a YAML import). The
-- configuration's rules are the seed: a row here wins over a config rule of
-- the same id, and a deleted row removes it.
CREATE TABLE IF NOT EXISTS {db}.alert_rules
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

-- One row per change of an instance (state, severity, value, ack, silences).
-- `doc` holds the instance and the engine's bookkeeping (timers, what was
-- notified), so a restarted engine goes on where it stopped.
CREATE TABLE IF NOT EXISTS {db}.alert_instances
(
    id String,
    version UInt64,
    ruleId String,
    region String,
    state String,
    severity String,
    deleted UInt8,
    doc String,
    updatedAt DateTime('UTC')
)
ENGINE = ReplacingMergeTree(version)
ORDER BY id;

-- Every transition, with its reason code, the value and volume seen.
CREATE TABLE IF NOT EXISTS {db}.alert_history
(
    instanceId String,
    seq UInt64,
    ruleId String,
    region String,
    at DateTime('UTC'),
    fromState String,
    toState String,
    severity String,
    reason String,
    value Nullable(Float64),
    volume Nullable(Float64),
    threshold Nullable(Float64),
    message String,
    actor String
)
ENGINE = MergeTree()
PARTITION BY toYYYYMM(at)
ORDER BY (instanceId, at, seq);

-- Who acknowledged which firing episode, when, and why.
CREATE TABLE IF NOT EXISTS {db}.alert_acks
(
    instanceId String,
    ruleId String,
    region String,
    at DateTime('UTC'),
    actor String,
    comment String,
    firingSince DateTime('UTC')
)
ENGINE = MergeTree()
PARTITION BY toYYYYMM(at)
ORDER BY (instanceId, at);

-- Silences and maintenance windows made through the API. `region` is the value
-- of a `region=` matcher ('' when none), so a manager sees only their own.
CREATE TABLE IF NOT EXISTS {db}.alert_silences
(
    id String,
    version UInt64,
    region String,
    deleted UInt8,
    doc String,
    updatedAt DateTime('UTC')
)
ENGINE = ReplacingMergeTree(version)
ORDER BY id;
