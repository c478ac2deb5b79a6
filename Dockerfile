# Build in the .NET SDK image; run on the small Alpine ASP.NET runtime image, as its non-root user.
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /source
# Restore from the project files alone first, so that this layer is reused until a package changes.
COPY Directory.Build.props Directory.Packages.props ./
COPY src/UserDataApi/UserDataApi.csproj src/UserDataApi/
RUN dotnet restore src/UserDataApi/UserDataApi.csproj
COPY src/UserDataApi/ src/UserDataApi/
RUN dotnet publish src/UserDataApi/UserDataApi.csproj -c Release -o /app --no-restore -p:UseAppHost=false

FROM mcr.microsoft.com/dotnet/aspnet:10.0-alpine AS runtime
WORKDIR /app
COPY --from=build /app .
# LDAP providers sign in through System.DirectoryServices.Protocols, which calls the OpenLDAP client library.
RUN apk add --no-cache libldap
ENV ASPNETCORE_HTTP_PORTS=8080
EXPOSE 8080
# The image defines APP_UID, an unprivileged user.
USER $APP_UID
# Alpine's busybox wget is the only HTTP client the image needs; live means the process answers.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD wget -q -O /dev/null http://127.0.0.1:8080/health/live || exit 1
ENTRYPOINT ["dotnet", "UserDataApi.dll"]
