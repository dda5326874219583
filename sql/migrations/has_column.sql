-- Whether $table_name has the column $column_name (what tells a migration is still to do).
SELECT count(*) > 0 AS present
FROM information_schema.columns
WHERE table_name = $table_name AND column_name = $column_name;
