import { killChildDaemonRow } from './04-kill-child-daemon.js';

killChildDaemonRow('pacemaker-schedulerd');
