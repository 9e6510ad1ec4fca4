import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatMinor, sumMinor } from '../src/index.js';
import { firstCustomer, loggedInClient, truth } from './helpers.js';

test('given every card when paging POST /statement then the pages cover the truth with no duplicates', async () => {
  const customer = await firstCustomer();
  const client = await loggedInClient(customer.phone);
  const seen = [];
  let pages = 0;
  for (const card of await client.cards()) {
    for await (const { items } of client.statementPages({
      cardToken: card.card_token, from: '2000-01-01T00:00:00Z', to: '2100-01-01T00:00:00Z', pageSize: 97,
    })) {
      pages += 1;
      for (const item of items) {
        assert.equal(item.card_token, card.card_token);
        seen.push(item);
      }
    }
  }
  const expected = await truth('card_transactions', customer.phone);
  assert.ok(expected.length > 100, 'the seeded customer has card history');
  assert.ok(pages > 2, 'several pages were read');
  const ids = seen.map((item) => item.id);
  assert.equal(new Set(ids).size, ids.length, 'no duplicate across pages');
  assert.deepEqual([...ids].sort(), expected.map((item) => item.id).sort());
  for (const item of seen) assert.equal(formatMinor(item.amount_minor, item.currency), item.amount);
});

test('given a microloan when reading its status and schedule then principal instalments sum to the principal', async () => {
  const customer = await firstCustomer();
  const client = await loggedInClient(customer.phone);
  const loans = [];
  for await (const loan of client.microloans()) loans.push(loan);
  const disbursed = loans.filter((loan) => loan.disbursed_at !== null);
  assert.ok(disbursed.length > 0, 'the seeded customer has a disbursed microloan');
  for (const listed of disbursed) {
    const loan = await client.microloan(listed.id);
    assert.equal(loan.id, listed.id);
    assert.equal(typeof loan.status, 'string');
    const schedule = [];
    for await (const row of client.microloanSchedule(loan.id, { pageSize: 5 })) schedule.push(row);
    assert.equal(new Set(schedule.map((row) => row.instalment_number)).size, schedule.length);
    assert.equal(sumMinor(schedule.map((row) => row.principal_minor)), loan.principal_minor);
    assert.equal(formatMinor(loan.principal_minor, loan.currency), loan.principal);
  }
});

test('given a loan request when asking eligibility then a 12-month decision with a code of the data', async () => {
  const customer = await firstCustomer();
  const client = await loggedInClient(customer.phone);
  const answer = await client.microloanEligibility(1_000_000_00);
  assert.equal(answer.term_months, 12);
  assert.ok(['APPROVED', 'REJECTED_DTI', 'REJECTED_SCORE', 'REJECTED_DAILY_LIMIT', 'REJECTED_INCOME_MULTIPLE'].includes(answer.decision_code));
  assert.equal(answer.eligible, answer.decision_code === 'APPROVED');
  assert.equal(answer.eligible, answer.instalment_minor !== null);
});

test('given FX conversions when listing with small pages then every conversion arrives once in cursor order', async () => {
  const customer = await firstCustomer();
  const client = await loggedInClient(customer.phone);
  const rows = [];
  for await (const row of client.fxConversions({ pageSize: 3 })) rows.push(row);
  const expected = await truth('fx_conversions', customer.phone);
  assert.ok(expected.length > 3, 'more than one page of conversions');
  assert.deepEqual(rows.map((row) => row.id).sort(), expected.map((row) => row.id).sort());
  assert.equal(new Set(rows.map((row) => row.id)).size, rows.length);
  for (let i = 1; i < rows.length; i += 1) assert.ok(Date.parse(rows[i - 1].occurred_at) <= Date.parse(rows[i].occurred_at));
  for (const row of rows) {
    assert.ok(Number.isSafeInteger(row.sell_amount_minor) && Number.isSafeInteger(row.buy_amount_minor));
  }
  const since = rows[Math.floor(rows.length / 2)].occurred_at;
  const later = [];
  for await (const row of client.fxConversions({ since })) later.push(row);
  assert.ok(later.length > 0 && later.every((row) => Date.parse(row.occurred_at) >= Date.parse(since)));
});
