-- gpuprice history schema (PostgreSQL), version 4: the provider's own
-- currency.
--
-- A series priced in another currency than USD (Scaleway's EUR) has it in
-- series.currency and each point the provider's own amount in
-- points.currency_per_hour beside usd_per_hour, its conversion at the
-- ECB's rate of the day; both are '' and NULL for USD prices.

ALTER TABLE series ADD COLUMN currency text NOT NULL DEFAULT '';
ALTER TABLE points ADD COLUMN currency_per_hour double precision;
