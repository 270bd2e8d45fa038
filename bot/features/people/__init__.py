"""Who uses the console as themselves: one-time login links sent by DM, roles from the store
(global admins, per-room admins, operators), and the login throttle every process shares."""
