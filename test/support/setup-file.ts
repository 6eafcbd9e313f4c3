// Runs in every test worker before its test file.
process.env.TZ = "UTC";
