"""What the blueprints share and no service needs: what every page of one request shows."""
