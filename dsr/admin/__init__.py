"""The admin's pages: what dsr keeps and for how long, and the privacy policy it publishes."""
