-- gpuprice history schema (PostgreSQL), version 2: the HA group.
--
-- Replicas of gpuprice sharing the database split the providers between
-- them: a replica refreshes a provider only while it holds the provider's
-- lease, which it renews well within its time to live; another replica
-- takes a lease over only once it has expired, with the next epoch. Every
-- write of a refresh checks, in its transaction, that its epoch still holds
-- the lease (and locks the row, so that a takeover waits for it), so that
-- a paused old holder cannot write after losing it. Times are the server's.

CREATE TABLE leases (
    provider   text PRIMARY KEY,
    holder     text NOT NULL,        -- instance id of the replica, e.g. host:pid
    epoch      bigint NOT NULL,      -- +1 at every change of holder
    expires_at timestamptz NOT NULL
);

-- Every replica says here that it is alive, so that the others leave it
-- its share of the leases.
CREATE TABLE members (
    instance text PRIMARY KEY,
    seen_at  timestamptz NOT NULL
);
