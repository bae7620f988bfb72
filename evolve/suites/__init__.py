"""Running a repository's test suite: finding its command, running it in the sandbox, reading its reports."""
