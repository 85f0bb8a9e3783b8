"""A handler that takes a dataitem and returns a table and a plain value."""

from digitalhub_runtime_python import handler


@handler(outputs=["summary", "rows"])
def describe(context, table):
    df = table.as_df()
    context.logger.info("describing %s rows of %s", len(df), table.key)
    return df.describe(), len(df)
