"""Services for the people asking: taking their requests, the links that prove who they are,
their sign-in, and what the workflows they start share."""
