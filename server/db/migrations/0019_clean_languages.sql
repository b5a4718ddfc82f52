-- Owner: posts (server/posts.py). Remote posts stored before a contentMap key had to be a language tag
-- (federation/vocab.py language_tag) may hold the first ten characters of any key; they become 'und'.
UPDATE posts SET language = 'und'
 WHERE uri IS NOT NULL AND (language !~ '^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$' OR length(language) > 35);
