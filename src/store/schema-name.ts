/** A schema name as the PostgreSQL store and cluster accept it: a plain identifier. */
export const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
