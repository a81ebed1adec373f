/** Entry module of the benchmark's HTTP load thread (started by http-load.ts). */
import { serveTasks } from '../../lib/imaging/worker-pool.ts';
import { loadTasks } from './tasks.ts';

serveTasks(loadTasks);
