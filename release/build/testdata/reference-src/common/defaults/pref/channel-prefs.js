// The update channel, as Firefox keeps it.
pref("app.update.channel", "release");
