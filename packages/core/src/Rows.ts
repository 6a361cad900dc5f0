/**
 * Rows read from the platform's own database are trusted. A `Schema.Class`
 * validates its fields in its constructor by default; for a row the
 * database already holds that shape (column types, NOT NULL, CHECKs), so a
 * repo builds its model without validating again:
 * `new User({ … }, Rows.trusted)`. Input from clients is still decoded
 * (HttpRoute), and responses are still encoded by their Schema.
 */
export const trusted = { disableValidation: true } as const
