"""What Timebot does, one module per concern, independent of Slack's wire format and of any one
vendor: people and identity, clock, leave, who's off, home and status. Handlers call them after
the ack and render the result objects they return."""
