-- Owners: accounts (server/accounts.py), badges (server/badges.py), organisations (server/organisations.py) and
-- posts (server/posts.py). Names stored before server/names.py's clean_name (issue 11, finding 8) may hold
-- control, bidi and invisible characters (a display name that shows a handle with its host reversed). They go,
-- as clean_name takes them out (its list as of this migration), and runs of white space become one space. Remote
-- accounts' handles are left to the next fetch of their actor, which cleans them: changing them here could make
-- two handles one. A badge function or organisation name that would be left empty keeps its old text.
CREATE FUNCTION pg_temp.clean_name(value text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT btrim(regexp_replace(regexp_replace(value,
        '[\u0001-\u001f\u007f-\u009f\u00ad\u034f\u061c\u115f\u1160\u180e\u200b\u200e\u200f\u2028\u2029'
        '\u202a-\u202e\u2060-\u2064\u2066-\u206f\u3164\ufeff\uffa0\U000e0000-\U000e007f]', '', 'g'),
        '\s+', ' ', 'g'))
$$;

UPDATE accounts SET display_name = pg_temp.clean_name(display_name)
 WHERE display_name <> pg_temp.clean_name(display_name);
UPDATE badges SET function_title = pg_temp.clean_name(function_title)
 WHERE function_title <> pg_temp.clean_name(function_title) AND pg_temp.clean_name(function_title) <> '';
UPDATE badges SET unit = pg_temp.clean_name(unit) WHERE unit <> pg_temp.clean_name(unit);
UPDATE organisations SET name = pg_temp.clean_name(name)
 WHERE name <> pg_temp.clean_name(name) AND pg_temp.clean_name(name) <> '';
UPDATE organisations
   SET official_label_nl = NULLIF(pg_temp.clean_name(official_label_nl), ''),
       official_label_en = NULLIF(pg_temp.clean_name(official_label_en), ''),
       personal_label_nl = NULLIF(pg_temp.clean_name(personal_label_nl), ''),
       personal_label_en = NULLIF(pg_temp.clean_name(personal_label_en), '')
 WHERE concat(official_label_nl, official_label_en, personal_label_nl, personal_label_en)
       <> pg_temp.clean_name(concat(official_label_nl, official_label_en, personal_label_nl, personal_label_en));
UPDATE posts SET voice_organisation_name = pg_temp.clean_name(voice_organisation_name)
 WHERE voice_organisation_name <> pg_temp.clean_name(voice_organisation_name);

DROP FUNCTION pg_temp.clean_name(text);
