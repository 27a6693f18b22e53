"""Services for the people asking: taking their requests, the single-use links mailed to them,
signing them in, and what they may read once signed in."""
