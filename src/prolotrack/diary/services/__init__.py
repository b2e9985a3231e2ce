"""The diary's workflows, one topic module each: entries (and their triage), alerts, sign-in
links and invitations, reminders, and the patient's own export."""
