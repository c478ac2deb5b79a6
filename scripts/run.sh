#!/usr/bin/env bash
# Runs the server on http://localhost:5000 in Development. Uses ConnectionStrings__UserData when set;
# otherwise starts (and keeps, under .local/postgres) a private PostgreSQL cluster on 127.0.0.1:55432.
# Prints the Swagger URL and a token minted with `dotnet user-jwts`.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${ConnectionStrings__UserData:-}" ]; then
  source scripts/local-postgres.sh
  port=${USERDATA_DEV_PG_PORT:-55432}
  start_local_postgres "$PWD/.local/postgres" "$port"
  export ConnectionStrings__UserData="Host=127.0.0.1;Port=$port;Username=postgres;Database=postgres"
  echo "PostgreSQL: private cluster in .local/postgres on 127.0.0.1:$port"
fi
export ASPNETCORE_ENVIRONMENT=${ASPNETCORE_ENVIRONMENT:-Development}
urls=${ASPNETCORE_URLS:-http://localhost:5000}

dotnet build src/UserDataApi -c Debug -v quiet -nologo >/dev/null
token=$(dotnet user-jwts create --project src/UserDataApi --name demo-user \
  --scope email --scope user-data-get --scope user-data-set --scope idp-intents \
  --claim azp=swagger-ui --claim email=demo-user@example.com --claim email_verified=true \
  --audience userdataapi --valid-for 7d --output token)

cat <<MSG

  Swagger UI:  ${urls%%;*}/swagger
  Token (7 days, client app 'swagger-ui', scopes email user-data-get user-data-set idp-intents):

  $token

  Mint another:  dotnet user-jwts create --project src/UserDataApi --name USER --scope email \\
                   --scope user-data-get --scope user-data-set --claim azp=CLIENT_APP --audience userdataapi --output token

MSG
exec dotnet run --project src/UserDataApi --no-build --no-launch-profile --urls "$urls"
