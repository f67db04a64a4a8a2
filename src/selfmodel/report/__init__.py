"""The joined report's page: engineering metrics beside outcomes, readable by anyone
(``selfmodel report --html``, ``GET /v1/report.html``)."""
