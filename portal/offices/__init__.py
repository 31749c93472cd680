"""The offices that have only a mailbox: their staff's page of the applications emailed to them,
and the steps they record, which reach the citizen as any department's events do."""
