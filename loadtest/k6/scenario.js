// Load test with k6 (https://k6.io), for those who have it; loadtest/run.sh is the harness this
// repository runs itself. GraphQL over HTTP is a POST of a JSON body with
// Content-Type: application/json (a form-encoded body, k6's default for an object, is refused
// with 415).
//
//   k6 run loadtest/k6/scenario.js                                   # 100 users for 5 minutes
//   k6 run -e BASE_URL=http://10.0.0.5:8080 -e SCENARIO=ramp loadtest/k6/scenario.js
//
// SCENARIO=steady (default): 100 virtual users, each sending a request a second, for 5 minutes.
// SCENARIO=ramp: an open model, 100 up to 4000 requests/s in steps, which is how to find the
// breaking point (the first step where p99 > 500 ms or more than 0.1 % of requests fail).
// The thresholds are the product's targets: errors < 0.1 %, p99 < 500 ms, p50 < 100 ms.
import http from 'k6/http';
import { check, sleep } from 'k6';

const url = `${__ENV.BASE_URL || 'http://127.0.0.1:8080'}/graphql`;
const query = __ENV.QUERY || '{ users(limit: 50) { id name } }';
const body = JSON.stringify({ query });
const params = {
  headers: {
    'Content-Type': 'application/json',
    Accept: 'application/graphql-response+json, application/json',
  },
  tags: { name: 'graphql' },
};

const scenarios = {
  steady: {
    executor: 'constant-vus',
    vus: 100,
    duration: '5m',
  },
  ramp: {
    executor: 'ramping-arrival-rate',
    startRate: 100,
    timeUnit: '1s',
    preAllocatedVUs: 200,
    maxVUs: 2000,
    stages: [100, 250, 500, 1000, 2000, 4000].flatMap((rate) => [
      { target: rate, duration: '10s' }, // ramp to the step
      { target: rate, duration: '50s' }, // hold it
    ]),
  },
};
const scenario = __ENV.SCENARIO || 'steady';

export const options = {
  scenarios: { [scenario]: scenarios[scenario] },
  thresholds: {
    http_req_failed: ['rate<0.001'],
    'http_req_duration{name:graphql}': ['p(99)<500', 'p(50)<100'],
    checks: ['rate>0.999'],
  },
};

export default function () {
  const res = http.post(url, body, params);
  check(res, {
    'status is 200': (r) => r.status === 200,
    'data and no errors': (r) => {
      try {
        const answer = r.json();
        return answer !== null && answer.data != null && answer.errors === undefined;
      } catch (e) {
        return false;
      }
    },
    'response time < 500ms': (r) => r.timings.duration < 500,
  });
  // The steady scenario's users think for a second between requests; the ramp sets the pace
  // itself (an arrival rate), so a pause there would only tie up virtual users.
  if (scenario === 'steady') {
    sleep(1);
  }
}
