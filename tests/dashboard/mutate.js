// Writes a copy of a dashboard with one mistake that dashboards/typecheck.sh must reject:
//   node mutate.js IN.json OUT.json MUTATION
// Fails (exit 2) when the dashboard has nothing the mutation applies to, so that a test of it
// cannot pass by checking an unchanged copy.
'use strict';
const fs = require('fs');

const [input, output, mutation] = process.argv.slice(2);
const dashboard = JSON.parse(fs.readFileSync(input, 'utf8'));
const top = (dashboard.panels || []).filter((p) => p.type !== 'row');
const nested = (dashboard.panels || [])
  .filter((p) => p.type === 'row')
  .flatMap((r) => r.panels || []);
const first = (panels, test, what) => {
  const found = panels.find(test);
  if (!found) {
    console.error(`mutate.js: ${input} has no ${what} for mutation ${mutation}`);
    process.exit(2);
  }
  return found;
};

const mutations = {
  // gridPos -> gridpos on a top-level panel.
  misspelt_key() {
    const p = first(top, (p) => p.gridPos, 'top-level panel with a gridPos');
    p.gridpos = p.gridPos;
    delete p.gridPos;
  },
  // The thresholds mode, an enum of Grafana's types ("absolute" | "percentage").
  bad_enum() {
    const p = first(top, (p) => p.fieldConfig?.defaults?.thresholds, 'panel with thresholds');
    p.fieldConfig.defaults.thresholds.mode = 'absolut';
  },
  // gridPos -> gridpos on a panel inside a collapsed row.
  misspelt_nested_key() {
    const p = first(nested, (p) => p.gridPos, 'panel inside a row');
    p.gridpos = p.gridPos;
    delete p.gridPos;
  },
  // A stat panel's colorMode, an enum of the stat plugin's options.
  bad_option() {
    const p = first(top.concat(nested), (p) => p.type === 'stat' && p.options, 'stat panel');
    p.options.colorMode = 'backgrund';
  },
  // expr -> exp in a Prometheus query.
  misspelt_query_key() {
    const p = first(top, (p) => (p.targets || []).some((t) => 'expr' in t), 'Prometheus query');
    const t = p.targets.find((t) => 'expr' in t);
    t.exp = t.expr;
    delete t.expr;
  },
};

if (!mutations[mutation]) {
  console.error(`mutate.js: unknown mutation ${mutation}; one of ${Object.keys(mutations).join(', ')}`);
  process.exit(2);
}
mutations[mutation]();
fs.writeFileSync(output, JSON.stringify(dashboard, null, 2) + '\n');
