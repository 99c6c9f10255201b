-- People: users, sessions, API tokens, and the audit log (server/people/, server/audit.ts).
-- Mutable rows are never updated in place: every change appends a new version to a
-- ReplacingMergeTree, and readers take argMax(col, version) per key. No column is
-- Nullable, because argMax skips NULLs; "never" and "none" are 0 and '' instead.

-- One row per change to a user. passwordHash is scrypt with its parameters and salt.
-- allRegions = 1 means every region (then regions is empty); sessionsNotBefore (epoch ms)
-- ends every session created earlier (password change, disable, delete).
CREATE TABLE IF NOT EXISTS {db}.users
(
    username String,
    displayName String,
    role String,
    regions Array(String),
    allRegions UInt8,
    passwordHash String,
    disabled UInt8,
    deleted UInt8,
    sessionsNotBefore UInt64,
    createdAt DateTime('UTC'),
    createdBy String,
    updatedAt DateTime('UTC'),
    updatedBy String,
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY username;

-- Sessions, keyed by the SHA-256 (hex) of the cookie's value: the value itself is never stored.
-- kind is 'user' (subject = username) or 'display' (subject = a display token's id).
-- idleSeconds = 0 means no idle expiry (wallboard displays). Partitioned by the month the
-- session began, so retention drops long-expired sessions with their partition.
CREATE TABLE IF NOT EXISTS {db}.sessions
(
    idHash String,
    kind String,
    subject String,
    createdAt DateTime('UTC'),
    createdAtMs UInt64,
    lastSeenAt DateTime('UTC'),
    expiresAt DateTime('UTC'),
    idleSeconds UInt32,
    ip String,
    userAgent String,
    revoked UInt8,
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(createdAt)
ORDER BY idHash;

-- API and display tokens made through the API, stored as the SHA-256 (hex) of the token.
-- expiresAt = 0 (1970-01-01) means no expiry; display = 1 is a read-only wallboard token.
CREATE TABLE IF NOT EXISTS {db}.api_tokens
(
    id String,
    name String,
    role String,
    regions Array(String),
    allRegions UInt8,
    display UInt8,
    digest String,
    hint String,
    createdAt DateTime('UTC'),
    createdBy String,
    expiresAt DateTime('UTC'),
    revoked UInt8,
    revokedAt DateTime('UTC'),
    revokedBy String,
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY id;

-- Who did what, when. Append-only; seq orders entries within a second and pages the API.
CREATE TABLE IF NOT EXISTS {db}.audit_log
(
    at DateTime('UTC'),
    seq UInt64,
    id String,
    actor String,
    action String,
    target String,
    region String,
    ip String,
    details String
)
ENGINE = MergeTree()
PARTITION BY toYYYYMM(at)
ORDER BY (at, seq);
