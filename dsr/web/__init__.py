"""What the blueprints share and no service needs: firing a transition from a form or a JSON
body, what every page of one request shows, and telling why a form was not taken."""
