-- Privileges the hardened profile needs beyond the seed's. The lab (handMysqlToPacemaker in
-- lib/targets/netns/boot-mysql.ts) runs this on the first primary, with binary logging on, after
-- replication is set up (so the replica gets it too) and before Pacemaker starts ms_mariadb.
--
-- The mariadb agent logs in locally (socket) as its replication_user to set read_only, run
-- CHANGE MASTER / START SLAVE / STOP SLAVE / RESET SLAVE, read SHOW SLAVE STATUS and the process
-- list, and kill client threads before a demotion. Its meta-data asks for "SUPER, REPLICATION
-- SLAVE, REPLICATION CLIENT, PROCESS and RELOAD privileges on all nodes" (heartbeat/mariadb.in;
-- the agent's README grants ALL PRIVILEGES instead); setupReplication grants only REPLICATION
-- SLAVE and REPLICATION CLIENT. MariaDB 10.11 already needs READ_ONLY ADMIN besides SUPER for
-- SET GLOBAL read_only (found on the lab: the agent's promote failed with error 1227), and the
-- split privileges of 10.5+ for what SUPER used to cover: REPLICATION SLAVE ADMIN (CHANGE MASTER,
-- START/STOP SLAVE), REPLICA MONITOR (SHOW SLAVE STATUS), BINLOG MONITOR, CONNECTION ADMIN (KILL).
-- The account name is profile.json's mysql.replication.user.
GRANT SUPER, READ_ONLY ADMIN, REPLICATION SLAVE ADMIN, REPLICA MONITOR, BINLOG MONITOR, CONNECTION ADMIN,
  REPLICATION SLAVE, REPLICATION CLIENT, PROCESS, RELOAD ON *.* TO 'rpl_user'@'%';
