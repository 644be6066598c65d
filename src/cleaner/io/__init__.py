"""Reading inputs: finding files, their formats and compression, records into `Document`s."""
