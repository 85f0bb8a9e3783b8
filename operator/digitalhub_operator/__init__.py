"""The digitalhub operator: kopf handlers turning Run custom resources into Jobs, Deployments and Services."""
