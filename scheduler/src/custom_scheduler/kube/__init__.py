"""Access to the Kubernetes API: the client boundary (`client`), API paths (`paths`), list+watch
(`watch`) and the API's time formats (`timefmt`)."""
