"""Provider callbacks: the signed webhook views and the events they record."""
