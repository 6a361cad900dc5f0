ALTER TABLE policies ADD COLUMN consent_notice boolean NOT NULL DEFAULT false;
ALTER TABLE recordings ADD COLUMN consent_notice boolean NOT NULL DEFAULT false;
