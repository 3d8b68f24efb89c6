const { MockActivityEnvironment } = require('@temporalio/testing');
const U='postgres://postgres:postgres@127.0.0.1:55432/';
Object.assign(process.env,{SOURCE_DATABASE_URL:U+'bench_source',STAGING_DATABASE_URL:U+'bench_staging',DESTINATION_DATABASE_URL:U+'bench_destination',LOG_LEVEL:'debug'});
(async()=>{
  const { parseConfig } = require('./dist/config/env');
  const config=parseConfig(process.env);
  const { bootstrap } = require('./dist/worker/bootstrap');
  const { mapping, pools } = await bootstrap(config, { migrate: false });
  const { createReconcileActivities } = require('./dist/activities/reconcile');
  const { reconcile } = createReconcileActivities({ pools, mapping, config, temporal: null, searchAttributes: false });
  const runId = Number(process.argv[2]);
  const s=Date.now();
  const r = await new MockActivityEnvironment().run(reconcile, { runId, concurrency: 2 });
  console.log('reconcile', Date.now()-s, 'ms', r.ok, JSON.stringify(r.valueCheck));
  await require('./dist/db/pools').closePools(pools);
})();
