/** Says once, plainly, which backends the integration suites run on. */
export default function setup(): void {
  const url = process.env.SQM_TEST_CLICKHOUSE_URL;
  process.stdout.write(
    url
      ? `[sqm tests] integration suites run on chDB and on the ClickHouse server at ${url}\n`
      : '[sqm tests] SQM_TEST_CLICKHOUSE_URL is not set: the ClickHouse server suite is SKIPPED; integration suites run on chDB only\n',
  );
}
