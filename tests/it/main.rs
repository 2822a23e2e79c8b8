//! Every end-to-end test in one binary, so the AWS SDK and the handlers are
//! linked once: a moto server per test, real HTTP receivers, the real
//! RabbitMQ, the handlers the Lambdas run.
mod amqp;
mod delivery;
mod fairness;
mod golden;
mod integrity;
mod local_stack;
mod notices;
mod ordering;
mod outages;
mod pipeline;
mod replay;
mod template;
mod types;
