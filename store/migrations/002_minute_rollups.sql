-- Per-minute rollups that long windows read, filled by materialized views on
-- insert. AggregateFunction states (not SimpleAggregateFunction) so the same
-- DDL runs on ClickHouse 18.16.
--
-- Wait times are kept as histograms (wait second -> count, capped at 600 s) so
-- the short-abandon and service-level bounds stay configuration, not schema:
-- any bound up to 600 s is answered exactly from the rollup.

CREATE TABLE IF NOT EXISTS {db}.calls_1m
(
    minute DateTime('UTC'),
    region String,
    queue String,
    channel String,
    entered AggregateFunction(count),
    answered AggregateFunction(countIf, UInt8),
    abandoned AggregateFunction(countIf, UInt8),
    answerWaits AggregateFunction(sumMap, Array(UInt32), Array(UInt64)),
    abandonWaits AggregateFunction(sumMap, Array(UInt32), Array(UInt64)),
    answeredWaitSum AggregateFunction(sumIf, UInt64, UInt8),
    handled AggregateFunction(countIf, UInt8),
    handleSum AggregateFunction(sumIf, UInt64, UInt8),
    resolvedKnown AggregateFunction(countIf, UInt8),
    resolvedYes AggregateFunction(countIf, UInt8)
)
ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMM(minute)
ORDER BY (region, minute, queue, channel);

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.calls_1m_mv TO {db}.calls_1m AS
SELECT
    toStartOfMinute(enteredAt) AS minute,
    region,
    queue,
    channel,
    countState() AS entered,
    countIfState(outcome = 'answered') AS answered,
    countIfState(outcome = 'abandoned') AS abandoned,
    sumMapState(
        if(outcome = 'answered', [toUInt32(least(waitSeconds, 600))], emptyArrayUInt32()),
        if(outcome = 'answered', [toUInt64(1)], emptyArrayUInt64())) AS answerWaits,
    sumMapState(
        if(outcome = 'abandoned', [toUInt32(least(waitSeconds, 600))], emptyArrayUInt32()),
        if(outcome = 'abandoned', [toUInt64(1)], emptyArrayUInt64())) AS abandonWaits,
    sumIfState(toUInt64(waitSeconds), outcome = 'answered') AS answeredWaitSum,
    countIfState(outcome = 'answered' AND isNotNull(talkSeconds)) AS handled,
    sumIfState(toUInt64(ifNull(talkSeconds, 0) + ifNull(holdSeconds, 0) + ifNull(wrapSeconds, 0)),
               outcome = 'answered' AND isNotNull(talkSeconds)) AS handleSum,
    countIfState(outcome = 'answered' AND isNotNull(resolved)) AS resolvedKnown,
    countIfState(outcome = 'answered' AND ifNull(resolved, 0) = 1) AS resolvedYes
FROM {db}.calls
GROUP BY minute, region, queue, channel;

CREATE TABLE IF NOT EXISTS {db}.surveys_1m
(
    minute DateTime('UTC'),
    region String,
    channel String,
    touchpoint String,
    csatCount AggregateFunction(countIf, UInt8),
    csatGood AggregateFunction(countIf, UInt8),
    npsCount AggregateFunction(countIf, UInt8),
    npsPromoters AggregateFunction(countIf, UInt8),
    npsDetractors AggregateFunction(countIf, UInt8),
    cesCount AggregateFunction(countIf, UInt8),
    cesSum AggregateFunction(sumIf, UInt64, UInt8)
)
ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMM(minute)
ORDER BY (region, minute, channel, touchpoint);

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.surveys_1m_mv TO {db}.surveys_1m AS
SELECT
    toStartOfMinute(answeredAt) AS minute,
    region,
    channel,
    touchpoint,
    countIfState(isNotNull(csat)) AS csatCount,
    countIfState(ifNull(csat, 0) >= 4) AS csatGood,
    countIfState(isNotNull(nps)) AS npsCount,
    countIfState(ifNull(nps, 0) >= 9) AS npsPromoters,
    countIfState(ifNull(nps, 10) <= 6) AS npsDetractors,
    countIfState(isNotNull(ces)) AS cesCount,
    sumIfState(toUInt64(ifNull(ces, 0)), isNotNull(ces)) AS cesSum
FROM {db}.surveys
GROUP BY minute, region, channel, touchpoint;
