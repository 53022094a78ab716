"""The developer portal (/developers): API clients for API v1, and the API's documentation."""
