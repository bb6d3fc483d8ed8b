"""The Parquet lake and canned reports on Apache Spark over it."""
