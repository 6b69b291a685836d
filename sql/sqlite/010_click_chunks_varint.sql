-- The packed click counters (008) with each field in as few bytes as its
-- value needs (include/click_chunk.h): a count of a few clicks in one byte
-- where it took eight, a time in five. A row of 128 links' totals shrinks
-- from about 3.2 KB to about 1 KB and a day's row from 2.2 KB to under
-- 0.5 KB, so a batch of clicks over many links writes a third of the pages
-- or less, and those pages fit the writer's page cache. Each blob now starts
-- with a format byte that no blob before had (0x81, never a slot); the
-- functions below rewrite the blobs without it and leave the others as
-- they are (a damaged row stays as damaged, reported by the reads as before).
UPDATE click_totals SET data = shortd_click_totals_upgrade(data);
UPDATE click_days SET data = shortd_click_days_upgrade(data);
