"""The Wildberries seller API: key decoding, rate limits, the HTTP client, typed rows."""
