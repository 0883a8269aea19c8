// First start of the compose `mongo` container (empty volume), run by the image's
// entrypoint as the root user: the pipeline's user, with readWrite on MONGO_DB only
// (no admin, no other database). The root user is for administration, never the app.
const dbName = process.env.MONGO_DB;
db.getSiblingDB(dbName).createUser({
  user: process.env.MONGO_APP_USER,
  pwd: process.env.MONGO_APP_PASSWORD,
  roles: [{ role: "readWrite", db: dbName }],
});
print(`mongo-init: user ${process.env.MONGO_APP_USER} (readWrite on ${dbName})`);
