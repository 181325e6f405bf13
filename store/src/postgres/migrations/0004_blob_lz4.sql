-- Message bytes compressed with LZ4 instead of PostgreSQL's default pglz. Every accepted
-- message is written once into `blobs`, and its TOAST compression runs inside the batch's
-- transaction, before the commit: measured on 2 cores with 10 KB text bodies, pglz took
-- 72 µs a message and LZ4 7 µs (a tenth), for a similar size. Rows written before this
-- migration keep pglz (each value records its own method; both read back alike).
-- A server built without LZ4 (`--with-lz4`, Debian's and PGDG's builds have it) keeps pglz.
DO $$
BEGIN
    ALTER TABLE blobs ALTER COLUMN bytes SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN
    RAISE NOTICE 'LZ4 is not available in this PostgreSQL server: blobs keep pglz';
END
$$;
