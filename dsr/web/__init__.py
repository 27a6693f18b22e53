"""What the blueprints share and no service needs: what every page of one request shows,
and firing a transition from a form or a JSON body."""
