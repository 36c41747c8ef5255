-- 0007: blue/green upgrades and rollback (issue 11 item 4). installed_plugins
-- .version stays the version that runs; previous_version is the one that ran
-- before the last upgrade, downgrade or rollback, so POST .../rollback/{name}
-- without a version goes back to it (and a second rollback forward again).
-- The files of each kept version are in <install-dir>/<name>/<version>/.

ALTER TABLE installed_plugins
    ADD COLUMN previous_version TEXT;
