-- An endpoint may take only the messages whose payload matches a JSON filter.
ALTER TABLE endpoint ADD COLUMN filter TEXT;
