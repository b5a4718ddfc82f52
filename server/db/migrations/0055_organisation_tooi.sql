-- Archive (issue 16): the organisation's code in TOOI (Thesaurus en Ontologie Overheidsinformatie, e.g. gm0228 for
-- Gemeente Ede), the archiefvormer of its MDTO export.
-- Owner: organisations.tooi_code (server/organisations.py).
ALTER TABLE organisations ADD COLUMN tooi_code text CHECK (tooi_code ~ '^[a-z]{2,6}[0-9]{1,8}$');
