"""Date and time formats, one per language, for every page, report and input (FORMAT_MODULE_PATH).

Both languages write dates the way the dealers' own systems and China's forms do, year first:
2026-03-15 and 2026-03-15 14:30 — on pages (`{{ day|date }}`, `|date:"DATETIME_FORMAT"`), in reports and
exports, and in the value of every date input (the first input format, which is also what an
`<input type="date">` needs). Templates name a format (DATE_FORMAT…), never spell one out."""
