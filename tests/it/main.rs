//! Every end-to-end test in one binary, so the AWS SDK and the handlers are
//! linked once: a moto server per test, real HTTP receivers, the real
//! RabbitMQ, the handlers the Lambdas run.
mod amqp;
mod api;
mod delivery;
mod deploy;
mod dlq;
mod fairness;
mod golden;
mod local_stack;
mod nothing_lost;
mod notices;
mod openapi;
mod ordering;
mod outages;
mod privilege;
mod receiver_auth;
mod receiving;
mod replay;
mod routing;
mod template;
mod types;
