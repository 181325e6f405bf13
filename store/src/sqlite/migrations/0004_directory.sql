-- National directory (Annuaire Santé). Each import fills a new generation; the generation whose
-- state is 'current' is the one in force, and switching it is one UPDATE pair in one
-- transaction, so readers see either the old directory or the new one, never a mix.
CREATE TABLE directory_generations (
    id           INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused: a stale handle must not reach a newer generation
    set_name     TEXT    NOT NULL CHECK (set_name IN ('mailboxes', 'professionals')),
    state        TEXT    NOT NULL CHECK (state IN ('building', 'current', 'retired')),
    started_at   INTEGER NOT NULL,
    committed_at INTEGER,
    source       TEXT,
    entries      INTEGER
);
CREATE UNIQUE INDEX directory_one_current_per_set
    ON directory_generations (set_name) WHERE state = 'current';

-- Extraction_Correspondance_MSSante: one row per address (duplicate lines merged).
-- digest sums the per-line digests modulo 2^61-1, so it does not depend on line order;
-- a changed mailbox is one whose digest differs between generations.
CREATE TABLE directory_mailboxes (
    generation     INTEGER NOT NULL,
    address_key    TEXT    NOT NULL,
    address        TEXT    NOT NULL,
    kind           TEXT    NOT NULL,
    id_nat_ps      TEXT,
    structure_id   TEXT,
    structure_name TEXT,
    service        TEXT,
    civility       TEXT,
    last_name      TEXT,
    first_name     TEXT,
    profession     TEXT,
    specialty      TEXT,
    postal_code    TEXT,
    city           TEXT,
    red_listed     INTEGER NOT NULL DEFAULT 0,
    digest         INTEGER NOT NULL,
    lines          INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (generation, address_key)
) WITHOUT ROWID;

-- PS_LibreAcces_Personne_activite: one row per professional, one per activity line.
CREATE TABLE directory_professionals (
    generation      INTEGER NOT NULL,
    id_nat_ps       TEXT    NOT NULL,
    civility        TEXT,
    last_name       TEXT,
    first_name      TEXT,
    profession_code TEXT,
    profession      TEXT,
    digest          INTEGER NOT NULL,
    lines           INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (generation, id_nat_ps)
) WITHOUT ROWID;

CREATE TABLE directory_activities (
    generation     INTEGER NOT NULL,
    id_nat_ps      TEXT    NOT NULL,
    specialty      TEXT,
    practice_mode  TEXT,
    siret          TEXT,
    finess         TEXT,
    structure_id   TEXT,
    structure_name TEXT,
    postal_code    TEXT,
    city           TEXT,
    sector         TEXT
);
CREATE INDEX directory_activities_by_professional
    ON directory_activities (generation, id_nat_ps);

-- Our own mailboxes whose holder asked for red-listing (listeRouge): never published to the
-- national directory nor shown in client searches. Keyed by canonical address so the flag
-- survives re-provisioning of the mailbox.
CREATE TABLE directory_red_list (
    address_key TEXT    PRIMARY KEY,
    set_at      INTEGER NOT NULL
) WITHOUT ROWID;
