// Benchmark script for k6: the same single endpoint, same VUs, status check on (benches/load.py).
import http from 'k6/http';
import { check } from 'k6';

export const options = {
  scenarios: {
    one: { executor: 'constant-vus', vus: parseInt(__ENV.VUS, 10), duration: __ENV.DURATION || '10s' },
  },
};

export default function () {
  const res = http.get(__ENV.URL);
  check(res, { 'status is 200': (r) => r.status === 200 });
}
